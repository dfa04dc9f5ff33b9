from __future__ import annotations

from django.db import models

from icv_core.models import (
    BaseModel,
    ComplianceModel,
    SoftDeleteModel,
    TimestampedModel,
    UUIDModel,
)


class Article(BaseModel):
    """The spec's BaseModel example."""

    title = models.CharField(max_length=255)
    body = models.TextField()

    class Meta(BaseModel.Meta):
        verbose_name_plural = "articles"


class Note(BaseModel):
    """A BaseModel with its own Meta and no ordering."""

    text = models.CharField(max_length=50, blank=True)

    class Meta:
        verbose_name = "note"


class Ordered(BaseModel):
    """A BaseModel whose Meta sets its own ordering."""

    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]


class Bare(UUIDModel):
    pass


class Stamped(TimestampedModel):
    name = models.CharField(max_length=50, blank=True)


class Subscription(SoftDeleteModel):
    """The spec's SoftDeleteModel example."""

    plan = models.CharField(max_length=50)
    customer_email = models.EmailField()


class Author(SoftDeleteModel):
    name = models.CharField(max_length=50)


class Book(SoftDeleteModel):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    title = models.CharField(max_length=50)


class Chapter(SoftDeleteModel):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="chapters")
    number = models.IntegerField(default=1)


class Review(models.Model):
    """Not soft-deletable; a CASCADE child that soft delete leaves alone."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")


class Loan(SoftDeleteModel):
    """Protects books from being soft-deleted while a loan is live."""

    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="loans")


class Category(SoftDeleteModel):
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=50)


class Document(ComplianceModel):
    name = models.CharField(max_length=50)


class Contract(ComplianceModel, SoftDeleteModel):
    name = models.CharField(max_length=50)


class Membership(SoftDeleteModel):
    """A soft-delete row under a plain model (the user) through CASCADE."""

    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, default="member")


class Shelf(SoftDeleteModel):
    name = models.CharField(max_length=20, default="")


class Volume(SoftDeleteModel):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="volumes")


class Reservation(SoftDeleteModel):
    """PROTECTs its volume, and goes with its shelf (both reached from a shelf)."""

    volume = models.ForeignKey(
        Volume, on_delete=models.PROTECT, related_name="reservations"
    )
    shelf = models.ForeignKey(
        Shelf, on_delete=models.CASCADE, related_name="reservations"
    )


class Pin(SoftDeleteModel):
    """RESTRICTs its volume, and goes with its shelf."""

    volume = models.ForeignKey(Volume, on_delete=models.RESTRICT, related_name="pins")
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="pins")
