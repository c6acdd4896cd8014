# `keyward kube-credential NAME` as kubectl runs it: the API version from
# KUBERNETES_EXEC_INFO, the credential from the vault.
$ @set kube/dev/token kube-hunter2
$ kube-credential dev
? 0
{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"kube-hunter2"}}
$ @env KUBERNETES_EXEC_INFO {"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false}}
$ kube-credential dev
? 0
{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"kube-hunter2"}}
$ @env KUBERNETES_EXEC_INFO {"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}
$ kube-credential dev
? 0
{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"kube-hunter2"}}
# Names are escaped into one segment each.
$ @set kube/arn:aws:eks:eu-1:1:cluster+2Fprod/token s3cret
$ kube-credential arn:aws:eks:eu-1:1:cluster/prod
? 0
{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"s3cret"}}
# A stored expiry becomes expirationTimestamp (RFC 3339, UTC).
$ @set kube/ci/token s3cret-ci 1924992000
$ kube-credential ci
? 0
{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"expirationTimestamp":"2031-01-01T00:00:00Z","token":"s3cret-ci"}}
# `keyward set --expires` stores one.
$ set kube/ci2/token --secret-fd 0 --expires 2031-01-01T00:00:00Z
s3cret-ci2
? 0
stored secret kube/ci2/token
$ kube-credential ci2
? 0
{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"expirationTimestamp":"2031-01-01T00:00:00Z","token":"s3cret-ci2"}}
