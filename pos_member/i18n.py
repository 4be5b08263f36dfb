"""Marking user-facing strings in the core for Qt's translation tools, without importing Qt.

`pyside6-lupdate` picks up ``QT_TRANSLATE_NOOP("context", "text")`` calls by name; at run time the
marker returns the English text unchanged and the UI translates it with the same context.
"""


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # the name lupdate looks for
    return text
