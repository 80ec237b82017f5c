"""Long console jobs (bulk confirmations, sheet imports): stored by the request, run by a worker.

A request that would touch many rows stores a `console_jobs` row with its input and answers at
once; `flask jobs run` (started beside the web server by `make run` and by the systemd unit
`coproduction-jobs@.service`) works through it a chunk at a time, each chunk in its own
transaction through the same domain services as the one-by-one action, and the console page
polls the job's progress. See `backend.jobs.services` for the guarantees.
"""
