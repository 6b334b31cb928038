"""Project API keys: a name, scopes, an optional expiry; only a SHA-256 of the secret is kept."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    PREDICT = "predict", "predict: predict, batch scoring"
    READ = "read", "read: examples, annotations, versions, runs, index, samples"
    IMPORT = "import", "import: import files, follow import jobs"
    EXPORT = "export", "export: export examples and annotations"


class ApiKey(models.Model):
    """A project's key for a downstream system. It acts on its own project only, within its
    scopes (integrations.api_keys.scopes), as its own service user (`principal`): imports it
    makes are attributed to that user, never to a person."""

    project = models.ForeignKey("annotator.Project", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    # The first characters of the key (after "vgk_"), shown to tell keys apart; not secret
    # enough to use (the rest of the key is 256 random bits).
    prefix = models.CharField(max_length=16, db_index=True)
    # SHA-256 of the whole key, hex: the key is 256 random bits, so a fast hash is as safe as a
    # slow one and costs microseconds per request (GitHub and Stripe keep keys the same way).
    hashed_key = models.CharField(max_length=64, unique=True)
    principal = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (vgk_{self.prefix}...)"

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def active(self) -> bool:
        return self.revoked_at is None and not self.expired

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expired else "active"
