# Walks a detente node with the OASIS taxii2-client (taxii2client.v21), the
# library OpenCTI's TAXII connectors use, and prints what it saw as JSON.
# Run by TestThirdPartyClient: url user password ca-file collection-id.
import json
import sys

from taxii2client.v21 import Server, as_pages

url, user, password, ca, collection_id, envelope_file = sys.argv[1:7]
out = {}
server = Server(url + "/taxii2/", user=user, password=password, verify=ca)
out["title"] = server.title
out["api_roots"] = [r.url for r in server.api_roots]
root = server.default or server.api_roots[0]
out["versions"] = root.versions
out["collections"] = [c.id for c in root.collections]
col = [c for c in root.collections if c.id == collection_id][0]
out["can_read"], out["can_write"] = col.can_read, col.can_write

ids, pages = [], 0
for env in as_pages(col.get_objects, per_request=4):
    pages += 1
    ids += [o["id"] for o in env.get("objects", [])]
out["objects"], out["object_pages"] = ids, pages

manifest, pages = [], 0
for env in as_pages(col.get_manifest, per_request=4):
    pages += 1
    manifest += [[m["id"], m["version"], m["date_added"]] for m in env.get("objects", [])]
out["manifest"], out["manifest_pages"] = manifest, pages

out["type_filter"] = [o["id"] for o in col.get_objects(type="identity").get("objects", [])]
target = "indicator--00000000-0000-4000-8000-000000000101"
out["object"] = [[o["id"], o["modified"]] for o in col.get_object(target).get("objects", [])]
out["all_versions"] = [o["modified"] for o in col.get_object(target, version="all").get("objects", [])]
out["first_version"] = [o["modified"] for o in col.get_object(target, version="first").get("objects", [])]
out["object_versions"] = col.object_versions(target).get("versions", [])
last_added = manifest[-1][2]
out["added_after"] = [o["id"] for o in col.get_objects(added_after=manifest[-3][2]).get("objects", [])]

with open(envelope_file) as f:
    envelope = f.read()
status = col.add_objects(envelope, wait_for_completion=False)
out["status"] = {"status": status.status, "total_count": status.total_count,
                 "success_count": status.success_count, "failure_count": status.failure_count,
                 "pending_count": status.pending_count,
                 "failures": status.failures, "successes": status.successes}
again = root.get_status(status.id)
out["status_again"] = again.status
print(json.dumps(out))
