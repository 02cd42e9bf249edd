"""GP practice reference data (LLR: CCG -> locality -> sub-locality -> practice)."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Practice(Base):
    """Shipped reference data, loaded from resources/reference; identical on every laptop."""

    __tablename__ = "practices"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    sub_locality: Mapped[str] = mapped_column(String(80), index=True)
    sub_locality_population: Mapped[int | None] = mapped_column(Integer)
    locality: Mapped[str] = mapped_column(String(80), index=True)
    locality_population: Mapped[int | None] = mapped_column(Integer)
    ccg_code: Mapped[str] = mapped_column(String(20))
    ccg_name: Mapped[str] = mapped_column(String(120))
