"""Pull: the mapped courses and everything in them into the store, through the run's source
(`source.Source`: `core_source` or `plugin_source`, chosen by `moodle_sync.paths`)."""
