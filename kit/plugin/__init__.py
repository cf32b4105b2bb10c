"""The pytest integration: the plugin's hooks, and what they keep per item, host and run.

`hooks` is the entry point pytest loads. The rest serves it: options and hosts (`hostopts`,
`hosts`, `startup`), collected items and their selection (`collected`, `selection`, `shard`),
xdist grouping (`scheduling`), the testinfra backend (`backend`), --fix and its waves (`fix`,
`fixhost`, `waves`), and what a run's outcome is (`outcomes`, `waivers`, `terminal`).
"""
