# path: absent in the request matches any stored path; present must be equal.
$ store
protocol=https
host=example.com
path=team/repo.git
username=bob
password=repo-token
? 0
$ get
protocol=https
host=example.com
path=team/other.git
? 0
$ get
protocol=https
host=example.com
path=team/repo.git
? 0
username=bob
password=repo-token
$ get
protocol=https
host=example.com
? 0
username=bob
password=repo-token
# A credential stored without a path is not one for a named path.
$ store
protocol=https
host=example.net
username=carol
password=host-wide
? 0
$ get
protocol=https
host=example.net
path=x.git
? 0
