"""`dangjian demo`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dangjian.cli.app import app, out, prefect_server, prepare_prefect


@app.command()
def demo(directory: Annotated[Path, typer.Option("--dir", help="演示数据目录（每次运行会重建其中的数据库）")]
         = Path("dangjian-demo")) -> None:
    """一条命令跑完一个考核年度：示范县数据、2026 周期、计划、模拟报送、督办、评分、排名。"""
    from dangjian.cli.progress import note
    from dangjian.demo.run import DemoPaths

    note(f"正在准备演示（{directory}），完整跑完一个考核年度需要一两分钟…")

    paths = DemoPaths(directory.resolve())
    prepare_prefect(paths.prefect_home)
    from dangjian.demo.run import run_demo

    with prefect_server():
        seconds = run_demo(paths, out)
    out.rule()
    out.print(f"演示完成，用时 {seconds:.1f} 秒。", highlight=False)
    for label, where in (("数据库", paths.database), ("佐证材料", paths.files),
                         ("评分表", paths.xlsx), ("评分 JSON", paths.json),
                         ("Prefect 数据", paths.prefect_home)):
        out.print(f"  {label}：{where}", highlight=False, soft_wrap=True)
    out.print(f"  查看逐项说明：DANGJIAN_DATABASE_URL=sqlite:///{paths.database} "
              "python3 dev.py dangjian scorecard 2026 --explain", highlight=False, soft_wrap=True)
