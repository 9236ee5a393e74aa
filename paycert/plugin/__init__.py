"""The pytest plugin: the only bridge between the paycert library and the certification suites."""
