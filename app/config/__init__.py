"""The config file: the settings it gives (settings), its one validating model (model),
reading it (load) and writing it (writer)."""
