"""The bureau console's stored figures (migration 0019_city_figures; services/city_figures.py):
one row per refresh, the whole city's counts as JSON, never anything about a person."""
from sqlalchemy import BigInteger, Float, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class CityFigures(Base):
    __tablename__ = "city_figures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[int] = mapped_column(BigInteger)         # the `now` they were counted at
    seconds: Mapped[float] = mapped_column(Float)          # how long counting took
    body: Mapped[str] = mapped_column(Text)                # JSON (city_figures.compute)


Index("ix_city_figures_as_of", CityFigures.as_of)
