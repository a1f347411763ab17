"""Background work. One direction only: the job functions call the services; the services
ask for background work through ``enqueue`` alone, which never imports the rest.

- ``spec``: ``JobSpec`` (a job's dotted function path, arguments, id) and the queue names;
- ``enqueue``: what the services call - hold a job on the session, dispatch it after the
  commit (RQ with a deterministic id and retries, or inline), the named jobs, Redis/RQ
  plumbing;
- ``execute``: run a job in this process (inline, without Redis);
- ``inline``: the inline runner - child processes that run inline jobs beside a bulk import;
- ``tasks``: the RQ job functions (ids in, a service call, their own session);
- ``worker``: ``AppWorker``, the RQ worker class (app context, models loaded once);
- ``failed``: the failed-job registries (``flask jobs``, the admin page);
- ``recovery``: what a killed worker leaves in Redis (its scheduler lock, its started jobs);
- ``ticker``: without Redis, the served process's thread that runs the sweep periodically.
"""
