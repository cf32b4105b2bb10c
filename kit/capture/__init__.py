"""`hostkit capture`: a profile pinned to what a known-good (golden) node has.

The profile written `extends` the one named and sets, for each parameter of the catalog
that describes the node's state (sysctl values, modules, listening ports and their owners,
the kernel release, the kubelet's version, containerd's and the kubelet's settings), the
value read on the golden node through the catalog's own reads; kit/capture/reads.py holds
one reader per parameter and says why each other parameter is not captured. A fleet run
against the profile then reports each node's drift from the golden node, check by check.
"""
