"""The use cases: what the API, the CLI and the demo ask of bssrules, one module per area.

Each use case takes plain values and a :class:`~bssrules.services.ports.UnitOfWork` (one
transaction; :mod:`bssrules.services.ports` says what it may touch), raises the domain
errors of :mod:`bssrules.errors`, and knows nothing of HTTP or SQL. Those that decide or
rate also take the worker's :class:`~bssrules.services.runtime.Runtime` (the stored catalog
and its compiled rule sets). They call the core (rules, catalog, configurator, pricing)
for every decision.

========================  ===============================================================
module                    area
========================  ===============================================================
``ports``                 the unit of work and repository ports; who is calling
``records``               stored records and their canonical text (shared with the store)
``runtime``               the compiled catalog and rules a worker holds, by revision
``catalog``               load a project; read and change the TMF620 catalog
``resources``             generic TMF resources: parties, accounts, customers, products
``parties``               the party, caller and payers the rules see
``qualification``         TMF679 product offering qualification
``configuration``         configuration checks and queries of a basket or cart
``orders``                TMF622 orders: validate, value, complete into the inventory
``usage``                 TMF635 usage rated on arrival; TMF654 buckets, TMF677 balances
``billing``               TMF678 bill runs and bills
``settlement``            partner settlement runs and notes
``tickets``               TMF621 trouble tickets and their routing
``sla``                   SLAs, measurements and violations
``partners``              partners, their keys and API bundles
``notifications``         hubs, the outbox and its delivery
========================  ===============================================================
"""
