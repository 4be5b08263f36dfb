"""The till program's composition roots, outside the core: ``cli`` (``pos-member``) wires the
core, the UI and the sync client together, and ``demo`` fills a demo store."""
