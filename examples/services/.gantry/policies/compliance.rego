# Organisation rules every promotion to compliance_ready must meet. `deny`
# holds one message per broken rule; an empty set lets the promotion pass.
package compliance

import rego.v1

deny contains msg if {
	input.service.api_version != "v1"
	msg := sprintf("%s speaks API %s; only v1 services may be promoted", [input.service.name, input.service.api_version])
}

deny contains msg if {
	not has_sbom
	msg := sprintf("%s %s has no signed SBOM in the ledger", [input.service.name, input.service.version])
}

has_sbom if {
	some e in input.evidence
	e.kind == "sbom"
	e.verified
}
