"""Difficult-negative mining run on a project's embedding store (seed 003).

`experiment` is pure (numpy arrays, a seeded Generator, no ORM); `service` applies the mining
algorithm (annotator.mining.algorithm) to a project's embedding store, `experiment_service` runs
the negatives experiment. Proposals and their statuses stay with the data (annotator.mining).
"""
