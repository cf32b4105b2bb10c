"""hostkit in a Kubernetes cluster: its image (deploy/image.py, deploy/Containerfile) and the
manifests that run it on every node (deploy/*.yaml)."""
