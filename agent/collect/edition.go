package collect

import (
	"strings"
)

// firstWindows11Build is the build from which Windows is Windows 11, although its registry
// ProductName still says "Windows 10".
const firstWindows11Build = 22000

// editionNames spells the registry's EditionID the way Windows names the edition.
var editionNames = map[string]string{
	"Core":                    "Home",
	"CoreSingleLanguage":      "Home Single Language",
	"Professional":            "Pro",
	"ProfessionalEducation":   "Pro Education",
	"ProfessionalWorkstation": "Pro for Workstations",
	"Education":               "Education",
	"Enterprise":              "Enterprise",
	"EnterpriseS":             "Enterprise LTSC",
	"IoTEnterprise":           "IoT Enterprise",
}

// windowsEdition names a Windows installation like "Windows 11 Pro" from the registry's
// ProductName and EditionID and the true build number (RtlGetVersion). It lives outside the
// Windows-only files so every platform's tests cover it.
func windowsEdition(productName, editionID string, build uint32) string {
	name := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(productName), "Microsoft "))
	if name == "" {
		name = strings.TrimSpace(windowsFamily(build) + " " + editionName(editionID))
	}
	if build >= firstWindows11Build && strings.HasPrefix(name, "Windows 10") {
		name = "Windows 11" + strings.TrimPrefix(name, "Windows 10")
	}
	return name
}

func windowsFamily(build uint32) string {
	switch {
	case build >= firstWindows11Build:
		return "Windows 11"
	case build >= 10240: // Windows 10's first release
		return "Windows 10"
	}
	return "Windows"
}

func editionName(editionID string) string {
	if name, ok := editionNames[editionID]; ok {
		return name
	}
	return editionID
}
