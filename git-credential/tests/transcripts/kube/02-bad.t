# A user with nothing stored, a version the plugin does not speak, bad
# KUBERNETES_EXEC_INFO, a locked vault: one line on stderr, nothing on stdout.
$ kube-credential nobody
? 1
! no credential for kubeconfig user "nobody" in the vault: store one with `keyward set kube/nobody/token` or `keyward import kube`
$ @env KUBERNETES_EXEC_INFO {"apiVersion":"client.authentication.k8s.io/v1alpha1"}
$ kube-credential nobody
? 1
! KUBERNETES_EXEC_INFO asks for "client.authentication.k8s.io/v1alpha1"
$ @env KUBERNETES_EXEC_INFO {"kind":
$ kube-credential nobody
? 1
! KUBERNETES_EXEC_INFO is not JSON
$ @unset KUBERNETES_EXEC_INFO
$ @set kube/dev/token kube-hunter2
$ @lock
$ kube-credential dev
? 4
! vault is locked
$ kube-credential
? 2
! the following required arguments were not provided
