# A client key and its certificate (PEM, newlines kept) instead of a token.
$ @set kube/admin/client-key -----BEGIN{x20}EC{x20}PRIVATE{x20}KEY-----{x0A}MHc={x0A}-----END{x20}EC{x20}PRIVATE{x20}KEY-----{x0A}
$ kube-credential admin
? 7
! no secret named kube/admin/client-certificate
$ @set kube/admin/client-certificate -----BEGIN{x20}CERTIFICATE-----{x0A}MIIB{x0A}-----END{x20}CERTIFICATE-----{x0A}
$ kube-credential admin
? 0
{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n","clientKeyData":"-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----\n"}}
