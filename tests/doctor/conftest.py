"""The doctor scripts are user programs that tests/test_doctor.py runs in subprocesses; pytest
must not import them (--doctest-modules would run them at collection, without _show on the
path)."""

collect_ignore_glob = ["*.py"]
