"""Orders' domain: the order and buyer deciders, their rules, milestones and wording. Pure: it does no I/O."""
