/** How to install each external tool the product runs — shown whenever one is missing. */
const INSTALL_HINTS: Record<string, string> = {
  docker: 'Install the Docker engine: `apt-get install -y docker.io` (Debian/Ubuntu), then start it.',
  'docker-compose': 'Install Compose: `apt-get install -y docker-compose` (v1), or the Docker Compose v2 plugin.',
  podman: 'Install Podman: `apt-get install -y podman`.',
  ansible: 'Install Ansible: `apt-get install -y ansible` or `pipx install ansible`.',
  'ansible-playbook': 'Install Ansible: `apt-get install -y ansible` or `pipx install ansible`.',
  'ansible-inventory': 'Install Ansible: `apt-get install -y ansible` or `pipx install ansible`.',
  k3d: 'Install k3d: see https://k3d.io/#installation (a single binary on PATH).',
  kubectl: 'Install kubectl: see https://kubernetes.io/docs/tasks/tools/.',
  multipass: 'Install Multipass: `snap install multipass`, or see https://multipass.run/install.',
  tofu: 'Install OpenTofu: see https://opentofu.org/docs/intro/install/.',
  terraform: 'Install Terraform: see https://developer.hashicorp.com/terraform/install.',
  ssh: 'Install the OpenSSH client: `apt-get install -y openssh-client`.',
  dnsmasq: 'Install dnsmasq: `apt-get install -y dnsmasq-base`.',
};

export function installHint(tool: string): string {
  return INSTALL_HINTS[tool] ?? `Install ${tool} and make sure it is on PATH.`;
}
