from ninja import Router

router = Router(tags=["病例与流调"])
