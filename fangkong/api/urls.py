from ninja import NinjaAPI

api = NinjaAPI(title="Fangkong API", version="1", urls_namespace="api")
