"""The PySide6 till: windows, dialogs, widgets and the bridge that runs core operations off the
GUI thread. Widgets never hold a database session; they ask ``Operations`` to run a core call."""
