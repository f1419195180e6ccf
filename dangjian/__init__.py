"""dangjian: 社区党建工作流与考核引擎."""
__version__ = "0.1.0"
