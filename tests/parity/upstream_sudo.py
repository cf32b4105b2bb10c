# ruff: noqa
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

import os

# Adapted from pytest-testinfra 10.2.2, test/test_modules.py
# (https://github.com/pytest-dev/pytest-testinfra, Apache License 2.0, see the header above).
# hostkit: the tests upstream runs as a user who is not root (its image's "user"), run here
# as the user the parity run logs in as (PARITY_USER). Changes are marked "hostkit:".


# hostkit: upstream's marker names its image's user; the user here is PARITY_USER.
def test_sudo_to_root(host):
    user = os.environ["PARITY_USER"]
    assert host.user().name == user
    with host.sudo():
        assert host.user().name == "root"
        # Test nested sudo
        with host.sudo("www-data"):
            assert host.user().name == "www-data"
    assert host.user().name == user
