"""Deployment: one self-contained CloudFormation stack per region and stage.

build.py      `make package`: chalice's template merged with what chalicelib defines
resources.py  the stack's keys, tables, queues, secrets, log groups and alarms
access.py     the two roles: the app's, and the vault function's own
regions.py    what differs between regions (regions/<region>.json)
validate.py   cfn-lint and checkov, run by `make test` on every region's template
deploy.py     `make deploy`: for operators with their own credentials, never CI
"""
