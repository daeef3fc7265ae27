"""Deployment: one CloudFormation stack per region, built by `make package` (see `build`)."""
