"""The pytest integration: the plugin's hooks, and the modules they hand over to.

`hooks` is the entry point pytest loads; it holds only hooks, each handing over to the
module that owns the work (see its docstring, and the README's Layout section): the options
(`options`, `startup`), the run's set-up and state (`runsetup`, `runstate`), profiles and
collection (`planning`, `collection`, `collected`, `selection`, `shard`), hosts
(`hosts`, `hostopts`, `warmup`, `backend`, `batch`, `readonly`), --fix (`fixentry`, `fix`,
`fixhost`, `waves`, `reboot`, `waivers`), outcomes and reports (`checkreport`, `outcomes`,
`summary`, `terminal`), fixtures (`fixtures`) and xdist (`scheduling`, `workers`).
"""
