from django.conf import settings
from django.db import models


class Account(models.Model):
    """The plan a shopper chose at sign-up."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    plan = models.CharField(max_length=16, default="free")
