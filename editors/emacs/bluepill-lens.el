;;; bluepill-lens.el --- dap-mode registration for the bluepill-lens adapter  -*- lexical-binding: t; -*-

;; Debug gVisor's runsc (or any Go program) from Emacs through `bluepill-lens adapter',
;; the stdio DAP proxy in front of Delve. Needs dap-mode (0.7 or newer).
;;
;;   (add-to-list 'load-path "/path/to/bluepill-lens/editors/emacs")
;;   (require 'bluepill-lens)
;;   M-x dap-debug RET "bluepill: attach to runsc sandbox" RET
;;
;; Tried with Debian's emacs-nox and elpa-dap-mode 0.7 (test/editors/emacs.test.ts).

;;; Code:

(require 'dap-mode)
(require 'dap-ui)    ; dap-mode 0.7 reads dap-ui's exception breakpoints when a session starts
(require 'json)

(defgroup bluepill-lens nil
  "Debug runsc on KVM through the bluepill-lens DAP adapter."
  :group 'dap-mode)

(defcustom bluepill-lens-adapter-command '("bluepill-lens" "adapter")
  "Command that runs the adapter on stdio.
From a checkout: (\"node\" \"/path/to/bluepill-lens/dist/cli.js\" \"adapter\")."
  :type '(repeat string))

(defcustom bluepill-lens-dlv-path nil
  "The dlv the adapter starts (--dlv-path); nil lets the adapter find dlv on PATH."
  :type '(choice (const nil) file))

(defun bluepill-lens-server-command ()
  "The adapter's command line, with --dlv-path when one is set."
  (append bluepill-lens-adapter-command
          (when bluepill-lens-dlv-path (list "--dlv-path" (expand-file-name bluepill-lens-dlv-path)))))

(defun bluepill-lens-processes ()
  "The picker's list from `bluepill-lens processes --json', sandboxes first (a list of alists).
Runs `bluepill-lens-adapter-command' with its last word, adapter, replaced by processes."
  (with-temp-buffer
    (let ((status (apply #'call-process (car bluepill-lens-adapter-command) nil '(t nil) nil
                         (append (butlast (cdr bluepill-lens-adapter-command)) '("processes" "--json")))))
      (unless (eq status 0)
        (user-error "bluepill-lens processes failed (status %s): check `bluepill-lens-adapter-command'" status))
      (goto-char (point-min))
      (append (json-read) nil))))

(defun bluepill-lens-pick-process ()
  "Ask for a process to attach to: \"PID ARGV\", runsc sandboxes first as \"PID * ARGV\"."
  (let* ((choices (mapcar (lambda (p)
                            (cons (format "%s%s %s" (alist-get 'pid p)
                                          (if (eq (alist-get 'sandbox p) t) " *" "")
                                          (mapconcat #'identity (alist-get 'argv p) " "))
                                  (alist-get 'pid p)))
                          (bluepill-lens-processes)))
         (choice (completing-read "Attach to (* = runsc sandbox): " choices nil t)))
    (cdr (assoc choice choices))))

(defun bluepill-lens--populate (conf)
  "Fill in CONF for the bluepill adapter: the server command, and a pid when attaching locally."
  (dap--put-if-absent conf :dap-server-path (bluepill-lens-server-command))
  (when (and (equal (plist-get conf :request) "attach")
             (equal (plist-get conf :mode) "local"))
    (dap--put-if-absent conf :processId (bluepill-lens-pick-process)))
  (when (equal (plist-get conf :request) "launch")
    (dap--put-if-absent conf :program (expand-file-name (read-file-name "Go executable to debug: "))))
  conf)

(cl-defmethod dap-handle-event ((_event (eql bluepill/state)) _session _params)
  "The adapter's bluepill/state events feed VS Code's panel; dap-mode has no use for them.")

(dap-register-debug-provider "bluepill" #'bluepill-lens--populate)

(dap-register-debug-template
 "bluepill: attach to runsc sandbox"
 (list :type "bluepill" :request "attach" :mode "local" :asRoot t
       :name "bluepill: attach to runsc sandbox"))

(dap-register-debug-template
 "bluepill: connect to remote dlv"
 (list :type "bluepill" :request "attach" :mode "remote" :host "127.0.0.1" :port 2345
       :name "bluepill: connect to remote dlv"))

(dap-register-debug-template
 "bluepill: launch executable"
 (list :type "bluepill" :request "launch" :mode "exec" :program nil
       :name "bluepill: launch executable"))

(provide 'bluepill-lens)
;;; bluepill-lens.el ends here
