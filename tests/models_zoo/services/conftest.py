from tests.models_zoo.services.helpers import (  # noqa: F401 - fixtures
    annotated_project,
    artifacts_dir,
    stepping_backend,
)
