"""The world's state that carries over from the warm-up into every arm's world."""

from __future__ import annotations

from dataclasses import dataclass

from ..detect.features import FeatureState
from ..detect.store import FeatureStore
from ..feedback.blocking import CardBlocks
from ..feedback.labels import LabelQueue
from ..rng import CLASSICS_KEY, Streams
from ..schema import Scenario
from ..schema.features import FEATURES
from ..units import DAY
from .crews import Crews, draw_skims
from .innovation import invent, wear_out
from .population import Population, build_population, with_movers


@dataclass
class World:
    """The population, its features and stored transactions, the crews, and the label events and
    card blocks waiting for their time."""

    population: Population
    features: FeatureState
    crews: Crews
    store: FeatureStore
    queue: LabelQueue
    blocks: CardBlocks


def build_world(scenario: Scenario, streams: Streams, start: float, retention: float) -> World:
    """The world as it starts at ``start`` (the warm-up's start): its population with the movers
    to come, crews and their tactics, skims, and empty features, store, label queue and blocks;
    the store keeps transactions for ``retention`` seconds."""
    population = with_movers(
        build_population(scenario.population, streams.get("population")),
        scenario.population,
        start,
        streams.get("drift"),
    )
    features = FeatureState(population.customers, population.merchants, scenario.population)
    crews = Crews(
        wear_out(scenario.innovation, scenario.crews, start, streams.get("innovation", CLASSICS_KEY)),
        scenario.compromises,
        population,
        streams,
        invent(scenario.innovation, start, scenario.horizon, population, streams.get("innovation")),
        draw_skims(
            scenario.skimming,
            start,
            scenario.horizon,
            population,
            [crew.name for crew in scenario.crews],
            streams.get("skimming"),
        ),
    )
    per_day = scenario.population.customers * scenario.population.tx_per_customer_day
    rows = int(1.2 * per_day * (retention + DAY) / DAY) + 1024  # one retention window, with a margin
    return World(
        population=population,
        features=features,
        crews=crews,
        store=FeatureStore(len(FEATURES), retention, rows),
        queue=LabelQueue(scenario.labels.maturity.window),
        blocks=CardBlocks(scenario.blocking),
    )
