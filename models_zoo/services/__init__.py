"""Service functions of models_zoo: the one core that REST views, pages, the CLI and Celery tasks
call (training runs, datasets and snapshots, model versions, the retrain policy)."""
