"""The rule language: YAML rule sets of eight kinds (eligibility, compatibility, usage, split
billing, discount, SLA, routing, settlement), compiled onto durable-rules and decided with
their explanation.

- :mod:`~bssrules.rules.model`: rule sets as authored (pydantic), conditions kept raw;
- :mod:`~bssrules.rules.facts`: the typed fact model conditions name, and facts flattened
  into the engine's event;
- :mod:`~bssrules.rules.conditions`: the condition language, its syntax tree and parser;
- :mod:`~bssrules.rules.compile`: conditions in normal forms over the engine's atoms;
- :mod:`~bssrules.rules.engine`: the one module that talks to durable-rules;
- :mod:`~bssrules.rules.compiled`: rule sets compiled per kind onto the engine;
- :mod:`~bssrules.rules.evaluate`: the reference evaluator, which explains every test;
- :mod:`~bssrules.rules.decisions`: what fired, turned into a decision per kind;
- :mod:`~bssrules.rules.schema`: the JSON Schemas of rule files;
- :mod:`~bssrules.rules.book`: the rule book, every compiled rule set by id and version;
- :mod:`~bssrules.rules.loader`: rule files checked and compiled into a rule book, every
  problem positioned;
- :mod:`~bssrules.rules.lint`: static findings over a rule book (contradictions, shadowed
  rules, time windows, unknown catalog references …);
- :mod:`~bssrules.rules.testing`: rule tests written next to the rules (decisions, or records
  played through rating), and their run;
- :mod:`~bssrules.rules.prices`: usage rates that name the catalog's usage price, completed
  from it and checked against it;
- :mod:`~bssrules.rules.project`: a project folder, its catalog and rule files checked
  together.
"""
