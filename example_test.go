package webinfra_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/webinfra/webinfra"
)

func ExamplePlan_String() {
	var plan webinfra.Plan
	plan.Add(
		webinfra.Change{
			Kind: "dns_record", ID: "www.example.com A", Action: webinfra.Create,
			After: webinfra.Fields{"content": "203.0.113.10", "proxied": true},
		},
		webinfra.Change{
			Kind: "smtp_relay", ID: "gmail", Action: webinfra.Update,
			Before: webinfra.Fields{"password": webinfra.NewSecret("old"), "port": 465},
			After:  webinfra.Fields{"password": webinfra.NewSecret("new"), "port": 587},
		},
	)
	fmt.Print(plan)
	// Output:
	// + dns_record www.example.com A
	//     content = "203.0.113.10"
	//     proxied = true
	//
	// ~ smtp_relay gmail
	//     password = (sensitive) -> (sensitive)
	//     port     = 465 -> 587
	//
	// Plan: 1 to create, 1 to update, 0 to delete.
}

func ExampleSecret() {
	token := webinfra.NewSecret("cf-api-token")
	fmt.Println(token)
	fmt.Printf("%q %x %#v\n", token, token, token)

	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	log.Info("connecting", "token", token)

	fmt.Println(len(token.Reveal())) // only Reveal gives the content
	// Output:
	// (sensitive)
	// (sensitive) (sensitive) (sensitive)
	// level=INFO msg=connecting token=(sensitive)
	// 12
}

func ExampleValidationError() {
	validate := func(hosts []string) error {
		var errs webinfra.ValidationError
		p := webinfra.NewPath("sites").Index(0).Child("hosts")
		for i, h := range hosts {
			if h == "" || h[0] == '.' {
				errs.Invalid(p.Index(i), h, "not a hostname")
			}
		}
		if len(hosts) == 0 {
			errs.Required(p)
		}
		return errs.Err()
	}

	err := validate([]string{"example.com", ".example.com", ""})
	fmt.Println(err)
	fmt.Println(errors.Is(err, webinfra.ErrInvalidArgument))
	fmt.Println(validate([]string{"example.com"}) == nil)
	// Output:
	// sites[0].hosts[1]: invalid value ".example.com": not a hostname
	// sites[0].hosts[2]: invalid value "": not a hostname
	// true
	// true
}
