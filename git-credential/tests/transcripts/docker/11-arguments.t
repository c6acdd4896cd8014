# arguments.
$
? 1
Usage: docker-credential-keyward <store|get|erase|list|version>
$ get extra
docker.io{NOEOL}
? 1
Usage: docker-credential-keyward <store|get|erase|list|version>
$ fetch
docker.io{NOEOL}
? 1
docker-credential-keyward: unknown action: fetch
$ version
? 0
docker-credential-keyward (keyward) 0.1.0
$ -v
? 0
docker-credential-keyward (keyward) 0.1.0
$ --version
? 0
docker-credential-keyward (keyward) 0.1.0
$ -h
? 0
Usage: docker-credential-keyward <store|get|erase|list|version>
$ --help
? 0
Usage: docker-credential-keyward <store|get|erase|list|version>
$ STORE
{}{NOEOL}
? 1
docker-credential-keyward: unknown action: STORE
$ @vault-unchanged
