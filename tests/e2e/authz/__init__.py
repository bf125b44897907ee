"""The authorization matrix: who may call which route on whose objects, and the marketplace it is checked on."""
