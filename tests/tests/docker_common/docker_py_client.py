"""docker-py (Debian python3-docker) driving docker-credential-keyward.

Run by tests/docker_py.rs with the built helper first on PATH and a throwaway
home with an unlocked vault. Prints OK at the end; any failed assert exits 1.
"""
import docker.auth as auth
import docker.credentials as creds

HUB = 'https://index.docker.io/v1/'
HUB_SECRET = 'hub pass "quoted" \\ <&> \u00e9\U0001F600'

s = creds.Store('keyward')
assert s.list() == {}, s.list()

try:
    s.get(HUB)
    raise AssertionError('get on an empty store did not raise')
except creds.CredentialsNotFound:
    pass

# store / get, and the hub's other spellings find the same credential
s.store(HUB, 'alice', HUB_SECRET)
assert s.get(HUB) == {'ServerURL': HUB, 'Username': 'alice', 'Secret': HUB_SECRET}, s.get(HUB)
assert s.get('docker.io') == {'ServerURL': 'docker.io', 'Username': 'alice', 'Secret': HUB_SECRET}
assert s.get('index.docker.io')['Secret'] == HUB_SECRET

# an upsert replaces, it does not add
s.store(HUB, 'alice', 'second')
assert s.get(HUB)['Secret'] == 'second'

# identity tokens pass through untouched
s.store('registry.example.com:5000', '<token>', 'identity-token-value')
assert s.get('registry.example.com:5000') == {
    'ServerURL': 'registry.example.com:5000',
    'Username': '<token>',
    'Secret': 'identity-token-value',
}

# a different port or host is a different registry
for other in ('registry.example.com', 'registry.example.com:5001', 'https://registry.example.com:5000'):
    try:
        s.get(other)
        raise AssertionError('matched across host/port: ' + other)
    except creds.CredentialsNotFound:
        pass

assert s.list() == {HUB: 'alice', 'registry.example.com:5000': '<token>'}, s.list()

# docker-py's own credential resolution through credsStore
cfg = auth.AuthConfig({'credsStore': 'keyward'})
assert cfg.resolve_authconfig('registry.example.com:5000') == {
    'ServerAddress': 'registry.example.com:5000',
    'IdentityToken': 'identity-token-value',
}
assert cfg.resolve_authconfig(None) == {
    'ServerAddress': HUB, 'Username': 'alice', 'Password': 'second',
}
everything = cfg.get_all_credentials()
assert everything['registry.example.com:5000']['IdentityToken'] == 'identity-token-value'
assert everything['index.docker.io']['Password'] == 'second'

# errors come back with the protocol's texts
try:
    s.store('x.example', '', 'p')
    raise AssertionError('store without a username succeeded')
except creds.StoreError as e:
    assert 'no credentials username' in str(e), str(e)

# erase, twice: the second is not an error
s.erase(HUB)
s.erase(HUB)
try:
    s.get('docker.io')
    raise AssertionError('erased credential still found')
except creds.CredentialsNotFound:
    pass
s.erase('registry.example.com:5000')
assert s.list() == {}, s.list()
print('OK')
