from ninja import Router

router = Router(tags=["传播链"])
