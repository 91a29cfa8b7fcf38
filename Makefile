# The two commands (README.md names them; CONTRIBUTING.md describes them). Each is self-sufficient on a fresh machine.
.PHONY: demo test bootstrap lock upgrade

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export SPARK_LOCAL_IP := 127.0.0.1

bootstrap:
	./scripts/bootstrap.sh

# Builds the wheel, synthesizes examples/ with the real cdk CLI and prints what it created.
demo: bootstrap
	npx projen demo

# Compiles with jsii and rosetta, builds the npm, Python, Java and Go packages,
# installs the wheel, runs every pytest suite (smoke apps in TS, Java and Go included).
test: bootstrap
	npx projen test

# Re-resolves the Python locks from the loose requirements, keeping what still fits
# (after editing requirements-dev.txt or a Glue runtime profile).
lock: bootstrap
	.venv/bin/python scripts/lock.py

# Moves every lock to the newest versions the loose ranges allow, says what moved,
# installs them and runs the whole suite: an upgrade is a reviewed commit of the locks.
upgrade: bootstrap
	.venv/bin/python scripts/lock.py --upgrade
	./scripts/bootstrap.sh
	npx projen test
