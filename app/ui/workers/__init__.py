"""QObject workers on their own QThreads: the only bridge between the GUI and `app.core`."""
