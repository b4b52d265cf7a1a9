package letter

// content is the text of one letter, in the order it is printed. For kinds
// with secrets the secret block sits between intro and steps.
type content struct {
	title      string   // document title in the PDF metadata; no personal data
	subject    string   // bold subject line
	intro      []string // paragraphs after the salutation
	stepsTitle string   // bold line above the numbered steps
	steps      []string
	after      []string // paragraphs after the steps
	alertBold  string   // the fraud notice: a bold question and the phone number
	alertRest  string   // what happens when they call
}

// letterText returns the text of l in its language, from the catalogue's
// letter.* keys. s is the sender; dates and times are German local time. The
// text never contains a secret: the password and the QR code are drawn by the
// secret block. Values (the sender's web address and phone, the device's
// name) are arguments of the texts, never part of a format.
func letterText(s Sender, l Letter) content {
	lg := l.language()
	notAsked := lg.T("letter.alert.not_asked", s.Phone)
	notYou := lg.T("letter.alert.not_you", s.Phone)
	keepSafe := lg.T("letter.keep_safe")
	wasItYou := lg.T("letter.was_it_you")
	changed := lg.DateTime(l.ChangedAt)

	switch l.Kind {
	case KindPassword:
		return content{
			title:   lg.T("letter.password.title"),
			subject: lg.T("letter.password.subject"),
			intro:   []string{lg.T("letter.password.intro")},
			steps: []string{
				lg.T("letter.password.step_portal", s.Web),
				lg.T("letter.password.step_login"),
				lg.T("letter.password.step_choose"),
				lg.T("letter.password.step_app"),
			},
			stepsTitle: lg.T("letter.steps_title"),
			after:      []string{lg.T("letter.password.validity", lg.Date(l.ValidUntil)), keepSafe},
			alertBold:  notAsked,
			alertRest:  lg.T("letter.password.alert"),
		}
	case KindPasswordReset:
		return content{
			title:   lg.T("letter.password_reset.title"),
			subject: lg.T("letter.password_reset.subject"),
			intro:   []string{lg.T("letter.password_reset.intro")},
			steps: []string{
				lg.T("letter.password_reset.step_portal", s.Web),
				lg.T("letter.password_reset.step_code"),
				lg.T("letter.password_reset.step_choose"),
			},
			stepsTitle: lg.T("letter.steps_title"),
			after: []string{
				lg.T("letter.password_reset.validity", lg.Date(l.ValidUntil)),
				lg.T("letter.password_reset.phones"),
				keepSafe,
			},
			alertBold: notAsked,
			alertRest: lg.T("letter.password_reset.alert"),
		}
	case KindActivation:
		return content{
			title:   lg.T("letter.activation.title"),
			subject: lg.T("letter.activation.subject"),
			intro:   []string{lg.T("letter.activation.intro")},
			steps: []string{
				lg.T("letter.activation.step_app"),
				lg.T("letter.activation.step_login"),
				lg.T("letter.activation.step_scan"),
			},
			stepsTitle: lg.T("letter.steps_title"),
			after:      []string{lg.T("letter.activation.validity", lg.Date(l.ValidUntil), s.Web), keepSafe},
			alertBold:  notAsked,
			alertRest:  lg.T("letter.activation.alert"),
		}
	case KindDeviceBound:
		return content{
			title:   lg.T("letter.device_bound.title"),
			subject: lg.T("letter.device_bound.subject"),
			intro: []string{
				lg.T("letter.device_bound.intro", changed, l.DeviceName),
				lg.T("letter.device_bound.if_you", s.Web),
			},
			alertBold: notYou,
			alertRest: lg.T("letter.device_bound.alert"),
		}
	case KindPasswordChanged:
		return content{
			title:     lg.T("letter.password_changed.title"),
			subject:   lg.T("letter.password_changed.subject"),
			intro:     []string{lg.T("letter.password_changed.intro", changed), wasItYou},
			alertBold: notYou,
			alertRest: lg.T("letter.alert.lock_account"),
		}
	case KindAddressChanged:
		return content{
			title:     lg.T("letter.address_changed.title"),
			subject:   lg.T("letter.address_changed.subject"),
			intro:     []string{lg.T("letter.address_changed.intro", changed), wasItYou},
			alertBold: notYou,
			alertRest: lg.T("letter.address_changed.alert"),
		}
	case KindBankChanged:
		return content{
			title:     lg.T("letter.bank_changed.title"),
			subject:   lg.T("letter.bank_changed.subject"),
			intro:     []string{lg.T("letter.bank_changed.intro", changed), wasItYou},
			alertBold: notYou,
			alertRest: lg.T("letter.bank_changed.alert"),
		}
	case KindDeviceRemoved:
		return content{
			title:   lg.T("letter.device_removed.title"),
			subject: lg.T("letter.device_removed.subject"),
			intro: []string{
				lg.T("letter.device_removed.intro", l.DeviceName, changed),
				lg.T("letter.device_removed.if_you", s.Web),
			},
			alertBold: notYou,
			alertRest: lg.T("letter.alert.lock_account"),
		}
	case KindLoginLocked:
		return content{
			title:   lg.T("letter.login_locked.title"),
			subject: lg.T("letter.login_locked.subject"),
			intro: []string{
				lg.T("letter.login_locked.intro", changed),
				lg.T("letter.login_locked.meanwhile", s.Web),
			},
			alertBold: lg.T("letter.login_locked.alert_question", s.Phone),
			alertRest: lg.T("letter.login_locked.alert"),
		}
	case KindPINLocked:
		intro := lg.T("letter.pin_locked.intro", changed)
		if l.DeviceName != "" {
			intro = lg.T("letter.pin_locked.intro_device", changed, l.DeviceName)
		}
		return content{
			title:     lg.T("letter.pin_locked.title"),
			subject:   lg.T("letter.pin_locked.subject"),
			intro:     []string{intro, lg.T("letter.pin_locked.new_pin", s.Web)},
			alertBold: lg.T("letter.pin_locked.alert_question", s.Phone),
			alertRest: lg.T("letter.pin_locked.alert"),
		}
	}
	return content{}
}
