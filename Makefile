# The two commands of the README. Each is self-sufficient on a fresh machine.
.PHONY: demo test bootstrap

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
