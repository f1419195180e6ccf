"""`python -m dangjian`: the same as the `dangjian` command.

`python -m` puts the working directory first on sys.path, where a user's own `rules/`
or `models/` folder would shadow our packages; drop it before anything else is imported.
"""
import os
import sys

if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from dangjian.cli import main

main()
