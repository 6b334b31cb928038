"""Model side of Vigia.

`models_zoo.backends` is pure Python (no Django); the Django app (model versions, training
runs, predictions, prediction REST) lives in the other modules of this package. Importing this
package never imports torch: heavy imports happen inside backend modules on first use.
"""
