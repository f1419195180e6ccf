"""ASGI entry for uvicorn: `uvicorn dangjian.web.asgi:app` (what `dangjian web` runs)."""
from dangjian.web.app import create_app

app = create_app()
