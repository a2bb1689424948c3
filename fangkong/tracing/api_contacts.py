from ninja import Router

router = Router(tags=["密切接触者"])
