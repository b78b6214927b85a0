"""Topic-specific figures, one module per topic (``cnnlab.figures.<slug>``); the shared ones are
in :mod:`cnnlab.plots`. Nothing is imported here."""
