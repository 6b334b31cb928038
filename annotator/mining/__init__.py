"""Difficult-negative mining (seed 003, ../shared/seeds/003_43c8cb6e46dbc9f4.txt).

`algorithm` and `experiment` are pure (numpy arrays, a seeded Generator, no ORM); `service`
applies them to a project's embedding store, `proposals` keeps proposal statuses in step with
human decisions, `svg` draws the S_an histogram for the mining page.
"""
